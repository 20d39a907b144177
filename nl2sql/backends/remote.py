"""The remote backend: any OpenAI-compatible completions server (vLLM, llama.cpp's server, TGI).

The prompt is built here with the model's tokenizer (its chat template) and sent as text to
/v1/completions with temperature 0 and no repetition penalty (or seeded sampling for execution-guided
selection); the reply streams back and is cut at the end of the first statement, as on every backend.
`spec` names the model whose tokenizer builds the prompt (the model the server serves, or one with the
same chat template).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Backend, BackendUnavailable, Generation, Sampling, drive

# llama.cpp's server penalises repeated tokens unless told (repeat_penalty 1.1), even at temperature 0: with it,
# "hired after 2020" came back as hire_date > '2021-01-01'. The local backends use none; vLLM ignores the field
# (its own repetition_penalty is 1.0 unless asked).
NEUTRAL = {"repeat_penalty": 1.0}


class RemoteBackend(Backend):
    kind = "remote"
    can_constrain = False

    def __init__(self, name: str, spec: str, tokenizer, precision: str, client, model: str):
        super().__init__(name, spec, tokenizer, precision)
        self.client, self.model = client, model

    @classmethod
    def open(cls, spec: str, url: str | None = None, model: str | None = None,
             api_key: str | None = None, timeout: float = 60.0) -> "RemoteBackend":
        import openai

        from nl2sql.models import load_tokenizer

        url = url or os.environ.get("NL2SQL_REMOTE_URL")
        if not url:
            raise BackendUnavailable("the remote backend needs a server URL (--remote-url or NL2SQL_REMOTE_URL), "
                                     "e.g. http://127.0.0.1:8000/v1")
        key = api_key or os.environ.get("NL2SQL_REMOTE_API_KEY") or "none"
        client = openai.OpenAI(base_url=url, api_key=key, timeout=timeout, max_retries=1)
        model = model or os.environ.get("NL2SQL_REMOTE_MODEL")
        if not model:
            try:
                model = next(iter(client.models.list())).id
            except (openai.OpenAIError, StopIteration) as e:
                raise BackendUnavailable(f"cannot list the models served at {url}: {e}") from e
        tok = load_tokenizer(spec)
        return cls(model, spec, tok, f"served at {url}", client, model)

    def stream(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               sampling: Sampling | None = None, names=None) -> Iterator[Generation]:
        """As Backend.stream; `names` is ignored: a completions server gives no per-token control."""
        n_prompt = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        return drive(self._pieces(prompt, max_new_tokens, sampling), n_prompt, max_new_tokens, self.kind)

    def _pieces(self, prompt: str, max_new_tokens: int, sampling: Sampling | None) -> Iterator[str]:
        import openai

        decoding = {"temperature": 0}
        if sampling is not None:
            decoding = {"temperature": sampling.temperature, "top_p": sampling.top_p, "seed": sampling.seed}
        try:
            response = self.client.completions.create(model=self.model, prompt=prompt, max_tokens=max_new_tokens,
                                                      stream=True, extra_body=NEUTRAL, **decoding)
        except openai.OpenAIError as e:
            raise BackendUnavailable(f"the server at {self.client.base_url} failed: {e}") from e
        text = ""
        try:
            for chunk in response:
                if chunk.choices and chunk.choices[0].text:
                    text += chunk.choices[0].text
                    yield text
        finally:
            response.close()  # stops the server's generation when the statement ends early
