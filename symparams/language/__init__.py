"""The language: the syntax tree (`syntax`) and the lark parser that makes it (`parsing`)."""
