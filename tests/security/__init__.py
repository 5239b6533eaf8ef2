"""The security and reliability checks of the quality spec, one module per check."""
