"""Catalogers for Ruby gems installed by RubyGems."""
