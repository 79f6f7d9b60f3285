"""Catalogers for Rust: the dependency list `cargo auditable` embeds in the executables it builds,
and `Cargo.lock` files shipped in images.
"""
