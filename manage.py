#!/usr/bin/env python
"""Django's command-line utility for the console."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    from django.core.management import execute_from_command_line

    from console.env import stop_on_bad_setting

    with stop_on_bad_setting():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
