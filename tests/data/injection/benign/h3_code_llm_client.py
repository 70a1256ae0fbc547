def chat(client, prompt: str) -> str:
    """Send one prompt to the model and return its answer.

    The caller's system prompt is prepended; tool calls are ignored here.
    """
    resp = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
    )
    return resp.choices[0].message.content
