"""Catalogers for Java (Maven) artifacts: jar, war, ear and Jenkins plugin archives."""
