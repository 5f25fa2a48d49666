"""netagent: audit and apply a declarative network tuning profile on EC2 Linux hosts."""

__version__ = "0.1.0"
