"""system_administration: bring up a two-service stack, schedule cron jobs for system users, write a
log rotation script -- checked over the network, by parsing config and by running it."""
