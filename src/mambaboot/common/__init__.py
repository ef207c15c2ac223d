"""Small shared helpers: errors, output, file-system primitives, the Windows corner, host facts, path rules."""
