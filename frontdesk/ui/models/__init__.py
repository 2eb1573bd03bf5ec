"""Qt item models over the desk's read models."""
