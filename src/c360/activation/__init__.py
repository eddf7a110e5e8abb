"""Activation: audience files for tools that read files instead of tables."""
