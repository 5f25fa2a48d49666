"""netagent: audit and apply a declarative network tuning profile on EC2 Linux hosts."""

__version__ = "0.1.0"

# Where originals, locks and the daemon's status live unless --state-dir says otherwise (FHS 5.8:
# /var/lib holds state an application keeps across reboots).
DEFAULT_STATE_DIR = "/var/lib/netagent"
