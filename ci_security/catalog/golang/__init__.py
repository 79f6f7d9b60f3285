"""Catalogers for Go: the module list the Go linker embeds in every executable it builds."""
