"""Segments: saved rules over clients (rules), compiled to one SQL query (compile), their
members recomputed nightly and on demand with joins and leaves recorded (members), and the
ABC/XYZ classes of clients (abcxyz)."""
