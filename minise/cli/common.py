"""What every command shares: the one-line error, option types, the help formatter."""
import argparse

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1                      # a check failed, or training diverged
EXIT_INTERRUPTED = 130               # Ctrl-C, as the shell reports it
EXIT_TERMINATED = 143                # SIGTERM (128 + 15), likewise
PLOT_SKIPPED = "plot skipped: matplotlib is not installed (pip install matplotlib to get it)"


class UsageError(ValueError):
    """Bad input from the command line: reported in one line, exit status 2."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the examples' line breaks; show an option's default when it has a real one."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text \
                and action.option_strings:
            text += " (default: %(default)s)"
        return text


def add_command(commands, name, help, description, examples):
    """A sub-command's parser, with the house formatter and its examples under the options."""
    return commands.add_parser(name, help=help, description=description, formatter_class=HelpFormatter,
                               epilog="examples:\n" + "\n".join("  " + line for line in examples))


def _number(kind, text):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a{'n' if kind is int else ''} {kind.__name__}, "
                                         f"got {text!r}") from None


def positive(kind):
    """An option type: a number > 0 of ``kind`` (int or float)."""
    def check(text):
        value = _number(kind, text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    check.__name__ = f"positive {kind.__name__}"
    return check


def non_negative(kind):
    """An option type: a number >= 0 of ``kind`` (0 allowed)."""
    def check(text):
        value = _number(kind, text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
        return value
    check.__name__ = f"non-negative {kind.__name__}"
    return check


def fraction(text):
    """A number in [0, 1), for --val-fraction."""
    value = _number(float, text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value


def one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def short_problems(exc, shown=3):
    """A StateDictError in a few words: counts and the first names of each kind of problem."""
    parts = []
    for what, names in (("missing", exc.missing_keys), ("unexpected", exc.unexpected_keys),
                        ("mismatched", [name for name, _, _ in exc.mismatched])):
        if names:
            more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
            parts.append(f"{len(names)} {what}: {', '.join(names[:shown])}{more}")
    return "; ".join(parts)
