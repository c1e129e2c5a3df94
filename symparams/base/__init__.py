"""The base layer: errors, limits, and numbers (`expr`), which everything else imports."""
