"""The ``chainkit`` command.

``chainkit quickstart`` walks through the chat-model quickstart on the local model. Each command
lives in its own module, imported only when it runs, so ``chainkit --help`` stays instant.

Example:
    $ chainkit quickstart
    $ python -m chainkit quickstart --model openai:gpt-4o-mini
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from chainkit.cli import traces as _traces

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, str] = {
    "quickstart": "walk through the chat-model quickstart on the local model",
    **_traces.COMMANDS,
}
"""Command name -> one-line description."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainkit",
        description="chainkit: compose LLM applications from prompts, chat models and parsers.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    quick = commands.add_parser(
        "quickstart", help=COMMANDS["quickstart"], description=COMMANDS["quickstart"]
    )
    quick.add_argument(
        "--model",
        metavar="SPEC",
        default=None,
        help="chat model spec for init_chat_model: 'local' (default, or $CHAINKIT_MODEL), "
        "'llamacpp:/path/model.gguf', 'openai:<model>[@<base_url>]', 'anthropic:<model>'",
    )
    quick.add_argument(
        "--max-tokens", type=_positive_int, default=64, help="tokens per answer (default 64)"
    )
    quick.add_argument("--seed", type=int, default=42, help="sampling seed (default 42)")
    _traces.register(commands)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainkit`` command line; return the exit code.

    Unknown commands and bad options exit with code 2 and a message listing the valid choices.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's usage errors (code 2) and --help (code 0)
        return exc.code if isinstance(exc.code, int) else 2
    if args.version:
        from chainkit import __version__

        print(f"chainkit {__version__}")
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        print(f"\nchainkit: a command is required: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    if args.command == "quickstart":
        from chainkit.cli.quickstart import run

        return run(spec=args.model, max_tokens=args.max_tokens, seed=args.seed)
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args))
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse rejects the rest
