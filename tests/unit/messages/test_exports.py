"""The package's public names, and the values layer's import rule."""

from __future__ import annotations

import ast
import importlib
import pathlib
import sys

import chainkit.messages

PACKAGE_DIR = pathlib.Path(chainkit.messages.__file__).parent
PUBLIC_MODULES = ["ai", "base", "chat", "convert", "function", "human", "serde", "system", "tool"]


def test_public_names() -> None:
    assert set(chainkit.messages.__all__) == {
        "AIMessage", "AIMessageChunk", "AnyMessage", "BaseMessage", "BaseMessageChunk",
        "ChatMessage", "ChatMessageChunk", "FunctionMessage", "FunctionMessageChunk",
        "HumanMessage", "HumanMessageChunk", "InputTokenDetails", "InvalidToolCall",
        "MessageContent", "MessageLikeRepresentation", "OutputTokenDetails", "PromptValueLike",
        "SystemMessage", "SystemMessageChunk", "ToolCall", "ToolCallChunk", "ToolMessage",
        "ToolMessageChunk", "UsageMetadata", "add_ai_message_chunks", "add_usage",
        "convert_to_messages", "convert_to_openai_messages", "default_tool_chunk_parser",
        "default_tool_parser", "get_buffer_string", "get_msg_title_repr", "invalid_tool_call",
        "merge_content", "merge_dicts", "merge_lists", "message_chunk_to_message",
        "message_to_dict", "message_to_openai_dict", "messages_from_dict", "messages_to_dict",
        "openai_dict_to_message", "tool_call", "tool_call_chunk",
    }
    assert len(chainkit.messages.__all__) == len(set(chainkit.messages.__all__))


def test_package_exports_every_public_module_name() -> None:
    for name in PUBLIC_MODULES:
        module = importlib.import_module(f"chainkit.messages.{name}")
        missing = set(module.__all__) - set(chainkit.messages.__all__)
        assert not missing, f"chainkit.messages.{name} exports {missing} the package does not"
        for export in module.__all__:
            assert getattr(chainkit.messages, export) is getattr(module, export)


def test_values_layer_imports_only_pydantic_and_the_standard_library() -> None:
    allowed = {"pydantic", "typing_extensions", "__future__"}  # typing_extensions: pydantic's own
    for path in PACKAGE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.startswith("chainkit."):
                    # `_repr_html_` imports the notebook layer inside the method, on first display
                    assert node.module.startswith(("chainkit.messages", "chainkit.notebook")), (
                        path.name, node.module)
                    continue
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in allowed or root in sys.stdlib_module_names, (path.name, root)
