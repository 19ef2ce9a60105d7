"""The app's screens, one per file: each composes widgets and routes their messages."""
