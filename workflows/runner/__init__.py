"""The local runner: runs a rendered CronWorkflow manifest without a cluster (`python -m workflows run`)."""
