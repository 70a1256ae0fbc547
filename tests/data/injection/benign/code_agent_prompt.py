SYSTEM_PROMPT = """You are a helpful assistant for Acme's internal wiki.
Answer briefly and cite the page you used."""


def build_messages(question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": question},
    ]
