"""Messages: the values that flow into and out of chat models.

One module per role (``human``, ``ai``, ``system``, ``tool``, ``function``, ``chat``) on top of
``base``; ``convert`` coerces message-likes and speaks OpenAI's dict format; ``serde`` dumps and
loads. This is the values layer: it imports pydantic and the standard library only.

Example:
    >>> from chainkit.messages import AIMessageChunk, HumanMessage, convert_to_messages
    >>> convert_to_messages(["hi", ("ai", "Hello!")])
    [HumanMessage(content='hi'), AIMessage(content='Hello!')]
    >>> AIMessageChunk("Hel") + AIMessageChunk("lo")
    AIMessageChunk(content='Hello')
"""

from chainkit.messages._merge import merge_dicts, merge_lists
from chainkit.messages.ai import (
    AIMessage,
    AIMessageChunk,
    InputTokenDetails,
    OutputTokenDetails,
    UsageMetadata,
    add_ai_message_chunks,
    add_usage,
)
from chainkit.messages.base import (
    BaseMessage,
    BaseMessageChunk,
    MessageContent,
    get_msg_title_repr,
    merge_content,
)
from chainkit.messages.chat import ChatMessage, ChatMessageChunk
from chainkit.messages.convert import (
    MessageLikeRepresentation,
    PromptValueLike,
    convert_to_messages,
    convert_to_openai_messages,
    get_buffer_string,
    message_chunk_to_message,
    message_to_openai_dict,
    openai_dict_to_message,
)
from chainkit.messages.function import FunctionMessage, FunctionMessageChunk
from chainkit.messages.human import HumanMessage, HumanMessageChunk
from chainkit.messages.serde import (
    AnyMessage,
    message_to_dict,
    messages_from_dict,
    messages_to_dict,
)
from chainkit.messages.system import SystemMessage, SystemMessageChunk
from chainkit.messages.tool import (
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
    ToolMessageChunk,
    default_tool_chunk_parser,
    default_tool_parser,
    invalid_tool_call,
    tool_call,
    tool_call_chunk,
)

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "AnyMessage",
    "BaseMessage",
    "BaseMessageChunk",
    "ChatMessage",
    "ChatMessageChunk",
    "FunctionMessage",
    "FunctionMessageChunk",
    "HumanMessage",
    "HumanMessageChunk",
    "InputTokenDetails",
    "InvalidToolCall",
    "MessageContent",
    "MessageLikeRepresentation",
    "OutputTokenDetails",
    "PromptValueLike",
    "SystemMessage",
    "SystemMessageChunk",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "ToolMessageChunk",
    "UsageMetadata",
    "add_ai_message_chunks",
    "add_usage",
    "convert_to_messages",
    "convert_to_openai_messages",
    "default_tool_chunk_parser",
    "default_tool_parser",
    "get_buffer_string",
    "get_msg_title_repr",
    "invalid_tool_call",
    "merge_content",
    "merge_dicts",
    "merge_lists",
    "message_chunk_to_message",
    "message_to_dict",
    "message_to_openai_dict",
    "messages_from_dict",
    "messages_to_dict",
    "openai_dict_to_message",
    "tool_call",
    "tool_call_chunk",
]
