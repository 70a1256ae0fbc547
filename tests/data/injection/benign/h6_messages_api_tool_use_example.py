"""Minimal tool-use loop with the Anthropic Messages API.

Run:  ANTHROPIC_API_KEY=... python messages_api_tool_use_example.py
"""

import json
import os

import anthropic

client = anthropic.Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])

SYSTEM = (
    "You are a weather assistant. Use the get_weather tool when the user asks "
    "about current conditions. Answer in one or two sentences."
)

TOOLS = [
    {
        "name": "get_weather",
        "description": "Get current weather for a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


def get_weather(city: str) -> dict:
    # Stubbed for the example.
    return {"city": city, "temp_c": 18, "conditions": "light rain"}


def run(user_text: str) -> str:
    messages = [{"role": "user", "content": user_text}]
    while True:
        resp = client.messages.create(
            model="claude-3-5-sonnet-latest",
            max_tokens=512,
            system=SYSTEM,
            tools=TOOLS,
            messages=messages,
        )
        messages.append({"role": "assistant", "content": resp.content})
        if resp.stop_reason != "tool_use":
            return "".join(b.text for b in resp.content if b.type == "text")

        results = []
        for block in resp.content:
            if block.type == "tool_use" and block.name == "get_weather":
                out = get_weather(**block.input)
                results.append(
                    {"type": "tool_result", "tool_use_id": block.id, "content": json.dumps(out)}
                )
        messages.append({"role": "user", "content": results})


if __name__ == "__main__":
    print(run("Is it raining in Dublin right now?"))
