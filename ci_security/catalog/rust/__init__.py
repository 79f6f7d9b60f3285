"""Catalogers for Rust: the dependency list `cargo auditable` embeds in the executables it builds."""
