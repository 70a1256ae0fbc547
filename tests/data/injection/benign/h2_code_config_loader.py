def load_config(path):
    """Load settings; environment variables override values from the file.

    Unknown keys are ignored so that older clients keep working.
    """
    ...
