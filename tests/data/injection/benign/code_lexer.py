class Lexer:
    """A tiny tokenizer for arithmetic expressions."""

    def __init__(self, text):
        self.text = text

    def tokens(self):
        for ch in self.text:
            if ch.isspace():
                continue  # ignore whitespace
            yield ch


if __name__ == "__main__":
    # print the tokens for debugging
    print(list(Lexer("1 + 2 * 3").tokens()))
