"""Doc samples read from flattened vendor pages (specs/samples.py)."""

from __future__ import annotations

import pytest

from apitwin.specs import samples
from apitwin.specs.samples import Block, extract, strip_comments

PYTHON_REQUESTS = (
    "# Source: https://docs.example/p.md # Page ```python import requests import json "
    "# for getting a structured output with indentation response = requests.post( "
    '"https://api.aimlapi.com/v1/responses", headers={ "Content-Type":"application/json", '
    '# Insert your AIML API Key instead of : "Authorization":"Bearer ", }, json={ "model":"openai/gpt-4o", '
    '"input":"Hello" # Insert your question for the model here, instead of Hello } ) data = response.json() ```'
)


def test_python_requests_body_survives_flattened_comments() -> None:
    [sample] = extract(PYTHON_REQUESTS)
    assert sample.kind == "request" and sample.language == "python"
    assert sample.method == "POST"
    assert sample.url == "https://api.aimlapi.com/v1/responses"
    assert sample.value == {"model": "openai/gpt-4o", "input": "Hello"}
    assert sample.problem is None


def test_python_names_and_f_strings_resolve_from_the_page() -> None:
    code = (
        'api_key = "" base_url = "https://api.aimlapi.com/v2" def generate_video(): '
        'url = f"{base_url}/video/generations" headers = { "Authorization": f"Bearer {api_key}", } '
        'data = { "model": "kling-video/v1.6/standard/text-to-video", "duration": "5", "loop": False } '
        "response = requests.post(url, json=data, headers=headers)"
    )
    [sample] = samples.python_samples("p", 0, code)
    assert sample.url == "https://api.aimlapi.com/v2/video/generations"
    assert sample.value == {"model": "kling-video/v1.6/standard/text-to-video", "duration": "5", "loop": False}


def test_python_json_dumps_body_and_unresolved_names() -> None:
    dumped = 'payload = {"model": "m", "n": -1} requests.post("https://h/v1/x", data=json.dumps(payload))'
    [sample] = samples.python_samples("p", 0, dumped)
    assert sample.value == {"model": "m", "n": -1}
    unknown = 'requests.post("https://h/v1/x", json={"model": "m", "input": text})'
    [sample] = samples.python_samples("p", 0, unknown)
    assert sample.value is None
    assert sample.problem == "unresolved: `text` is not assigned a literal on the page"


def test_python_sdk_call_posts_its_keywords_to_the_sdk_path() -> None:
    code = (
        'client = OpenAI( base_url="https://api.aimlapi.com/v1", api_key="" ) '
        'response = client.chat.completions.create( model="gpt-4o", messages=[ { "role": "user", '
        '# Enter your query here "content": "hi", }, ], extra_body={"top_k": 3}, )'
    )
    [sample] = samples.python_samples("p", 0, code)
    assert sample.url == "https://api.aimlapi.com/v1/chat/completions"
    assert sample.value == {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "top_k": 3}


def test_a_smiley_in_a_flattened_comment_does_not_close_the_call() -> None:
    code = (
        'client = OpenAI( base_url="https://api.aimlapi.com/v2", api_key="" ) items = ["a", "b"] '
        'response = client.embeddings.create( model="text-embedding-3-large", # Choose your fighter :) input=items )'
    )
    [sample] = samples.python_samples("p", 0, code)
    assert sample.url == "https://api.aimlapi.com/v2/embeddings"
    assert sample.value == {"model": "text-embedding-3-large", "input": ["a", "b"]}


def test_a_python_upload_names_its_file_fields_and_sends_the_rest_as_form_fields() -> None:
    assigned = (
        'url = "https://api.aimlapi.com/v2/generate/audio/minimax/upload" payload = {"purpose": "song"} '
        'files = {"file": (file_name, response.content, "audio/mpeg")} '
        "upload_response = requests.post(url, headers=headers, files=files, data=payload)"
    )
    [sample] = samples.python_samples("p", 0, assigned)
    assert (sample.files, sample.value) == (["file"], {"purpose": "song"})
    inline = (
        'requests.post("https://h/v1/stt/create", data={"model": "m"}, files={"audio": ("a.mp3", f, "audio/mpeg")})'
    )
    [sample] = samples.python_samples("p", 0, inline)
    assert (sample.files, sample.value) == (["audio"], {"model": "m"})
    assert samples.sent_body(sample.value, sample.files) == {"model": "m", "audio": samples.FILE_PLACEHOLDER}
    [json_body] = samples.python_samples("p", 0, 'requests.post("https://h/v1/x", json={"model": "m"})')
    assert json_body.files is None and samples.sent_body(json_body.value, None) == {"model": "m"}


def test_javascript_fetch_with_a_named_body_and_an_object_key_inside_a_comment() -> None:
    code = (
        "const API_URL = 'https://api.aimlapi.com/v1/chat/completions'; async function main() { "
        "const requestBody = { model: 'claude-3-opus', messages:[ { role:'user', "
        "// Insert your question for the model here, instead of Hello: content: 'Hello' } ], stream: false, }; "
        "const response = await fetch(API_URL, { method: 'POST', headers: { "
        "// Insert your AIML API Key instead of 'Authorization': `Bearer ${API_KEY}`, }, "
        "body: JSON.stringify(requestBody) }); }"
    )
    [sample] = samples.javascript_samples("p", 0, code)
    assert sample.method == "POST"
    assert sample.url == "https://api.aimlapi.com/v1/chat/completions"
    assert sample.value == {
        "model": "claude-3-opus",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": False,
    }


def test_javascript_expression_in_a_literal_is_unresolved() -> None:
    code = "fetch(`${base}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ input: text, model: 'm' }) })"
    [sample] = samples.javascript_samples("p", 0, code)
    assert sample.problem is not None and sample.problem.startswith("unresolved: ")


def test_curl_data_and_url() -> None:
    code = (
        'curl -X POST https://api.aimlapi.com/v1/chat/completions -H "Authorization: Bearer $KEY" '
        '-d \'{ "model": "gpt-4o", "messages": [ {"role":"user","content":"Say hi."} ] }\''
    )
    [sample] = samples.curl_samples("p", 0, "bash", code)
    assert (sample.method, sample.url) == ("POST", "https://api.aimlapi.com/v1/chat/completions")
    assert sample.value == {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hi."}]}


def test_response_blocks_read_json5_python_literals_and_skip_printed_text() -> None:
    json5_block = Block("json5", " { images: [ { url: 'https://cdn/x.jpg', width: 1024, }, ], } ", "\nResponse ")
    [json5_sample] = samples.block_samples("p", 3, json5_block)
    assert json5_sample.value == {"images": [{"url": "https://cdn/x.jpg", "width": 1024}]}
    printed = Block(
        "",
        " Generation ID: abc Status: generating {% code %} Processing complete:\\n "
        "{'id': 'abc', 'status': 'completed', 'video': None} {\"error\": tru ",
        "Response {% code %}",
    )
    literal, broken = samples.block_samples("p", 4, printed)
    assert literal.value == {"id": "abc", "status": "completed", "video": None}
    assert broken.value is None and broken.problem == "unparseable: the example never closes its bracket"


def test_a_code_block_not_after_a_response_heading_is_no_example() -> None:
    assert samples.block_samples("p", 0, Block("json", '{"modelProvider": "x"}', "as follows: ")) == []


def test_strip_comments_keeps_strings_with_hashes_and_slashes() -> None:
    assert strip_comments('x = "#fff" # colour y = 1', "#") == 'x = "#fff"  y = 1'
    assert strip_comments("u = 'https://h/a' // the url f(u)", "//") == "u = 'https://h/a'  f(u)"
    assert strip_comments("a // don't do this } b", "//") == "a  } b"


NODE_OPTIONS = (
    'const https = require("https"); const data = JSON.stringify({ model: "elevenlabs/eleven_turbo_v2_5", '
    'text: ` Cities of the future `, voice: "Nicole", }); const options = { hostname: "api.aimlapi.com", '
    'path: "/v1/tts", method: "POST", headers: { "Content-Length": Buffer.byteLength(data), } }; '
    "const req = https.request(options, (res) => { res.pipe(file); }); req.write(data); req.end();"
)
NODE_URL_OBJECT = (
    'const baseUrl = "https://api.aimlapi.com/v2"; function generateVideo(callback) { '
    'const data = JSON.stringify({ model: "bytedance/seedance-1-0-pro-t2v", prompt: ` A dragon ` }); '
    'const url = new URL(`${baseUrl}/video/generations`); const options = { method: "POST" }; '
    "const req = https.request(url, options, (res) => { }); req.write(data); req.end(); } "
    "function getVideo(genId) { const url = new URL(`${baseUrl}/video/generations`); "
    'const options = { method: "GET" }; const req = https.request(url, options, (res) => { }); req.end(); }'
)


@pytest.mark.parametrize(
    ("code", "url", "value"),
    [
        (
            NODE_OPTIONS,
            "https://api.aimlapi.com/v1/tts",
            {"model": "elevenlabs/eleven_turbo_v2_5", "text": " Cities of the future ", "voice": "Nicole"},
        ),
        (
            NODE_URL_OBJECT,
            "https://api.aimlapi.com/v2/video/generations",
            {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": " A dragon "},
        ),
    ],
    ids=["options-hostname-path", "url-object"],
)
def test_node_https_request_writes_its_body(code: str, url: str, value: dict[str, str]) -> None:
    """Node's https.request: the body is what req.write sends, the URL from the options or a URL object."""
    [sample] = samples.javascript_samples("p", 0, code)
    assert (sample.method, sample.url, sample.value) == ("POST", url, value)


def test_javascript_property_values_bound_to_literals_are_substituted_outside_strings() -> None:
    code = (
        'const client = new OpenAI({ baseURL: "https://api.aimlapi.com/v1" }); const text = "Laura is a DJ."; '
        'const response = await client.embeddings.create({ input: text, model: "voyage-law-2", note: "a: text," });'
    )
    [sample] = samples.javascript_samples("p", 0, code)
    assert sample.url == "https://api.aimlapi.com/v1/embeddings"
    assert sample.value == {"input": "Laura is a DJ.", "model": "voyage-law-2", "note": "a: text,"}
    unbound = 'client.embeddings.create({ input: userText, model: "m" })'
    [sample] = samples.javascript_samples("p", 0, unbound)
    assert sample.problem is not None and "holds expressions (`userText`)" in sample.problem
