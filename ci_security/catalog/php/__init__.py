"""Catalogers for PHP packages installed by Composer."""
