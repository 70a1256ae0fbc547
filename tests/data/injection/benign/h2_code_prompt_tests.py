def test_refuses_override(agent):
    reply = agent.ask("What is the capital of France?")
    assert "Paris" in reply


def test_system_message_first(agent):
    assert agent.messages[0].role == "system"
