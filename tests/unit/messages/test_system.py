"""SystemMessage and its chunk."""

from __future__ import annotations

from chainkit.messages import SystemMessage, SystemMessageChunk


def test_system_message() -> None:
    assert SystemMessage("Be brief.").type == "system"
    assert repr(SystemMessage("Be brief.")) == "SystemMessage(content='Be brief.')"


def test_system_chunks_merge() -> None:
    chunk = SystemMessageChunk("Be ", response_metadata={"n": 1}) + SystemMessageChunk(
        "brief.", response_metadata={"n": 2}
    )
    assert chunk == SystemMessageChunk("Be brief.", response_metadata={"n": 3})
