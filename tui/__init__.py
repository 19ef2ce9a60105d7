"""The command line and the Textual app: thin layers over the same calls in `tasks`."""
