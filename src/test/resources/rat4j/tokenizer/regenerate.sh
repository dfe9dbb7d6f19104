#!/usr/bin/env bash
# Regenerates the SentencePiece parity fixtures beside this script from the real SentencePiece library (Debian's
# 0.1.97: apt-get install -y sentencepiece python3-sentencepiece). The fixtures are committed so the tests need only
# the tokenizer file, never SentencePiece itself.
#   llama2-encode.json  texts and the ids SentencePiece encodes them to with Llama 2's tokenizer.model
#   llama2-decode.json  id sequences (byte pieces that make malformed UTF-8, control ids, stray U+2581 pieces...) and
#                       the text SentencePiece decodes them to
#   tiny-*.model        small BPE models trained here with spm_train on a generated corpus, covering what Llama 2's
#                       model does not use: normalization rules (a precompiled charsmap), removal of extra whitespace,
#                       a denormalizer, user-defined and control symbols, no byte fallback (runs of unknowns), no dummy
#                       prefix, whitespace as suffix, and UNUSED pieces (tiny-unused.model: tiny-bytes.model with every
#                       fifth merged piece retyped UNUSED by rewriting the protobuf)
#   tiny-cases.json     per tiny model: texts with their ids, id sequences with their text
# Texts with no newline are also run through spm_encode --output_format=id, which must agree with the Python binding
# (spm_encode reads one sentence per line, so it cannot encode texts that contain newlines).
#   src/test/resources/rat4j/tokenizer/regenerate.sh [path/to/llama2/tokenizer.model]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../../.." && pwd)"
model="${1:-$root/data/tokenizers/llama2/tokenizer.model}"
[[ -f "$model" ]] || "$root/bin/fetch-tokenizer" "$model"
for tool in spm_encode /usr/bin/python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "regenerate.sh: needs $tool (apt-get install -y sentencepiece python3-sentencepiece)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import sentencepiece' 2>/dev/null || { echo "regenerate.sh: needs python3-sentencepiece (apt-get install -y python3-sentencepiece)" >&2; exit 1; }

/usr/bin/python3 - "$model" "$here" <<'PY'
import json, random, subprocess, sys
import sentencepiece as spm

model, out = sys.argv[1], sys.argv[2]
sp = spm.SentencePieceProcessor(model_file=model)

texts = [
    "", " ", "  ", "   ", " " * 17, "\n", "\n\n", "\t", "\r\n", " \n ", "a", " a", "a ", " a ", "  a  ",
    "Hello world", "Hello, world!", " Hello", "Hello ", "  leading and trailing  ",
    "multiple   spaces\tand\ttabs\t\there", "line1\nline2\r\nline3\n\n", "\n\nstarts with newlines",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! the quick brown fox?",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, "
    "it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness.",
    "Don't won't can't I'm you're we've they'd it's O'Neill rock'n'roll",
    "def f(x):\n    return x * 2  # double\n\nclass A:\n\tpass\n",
    "public static void main(String[] args) {\n        System.out.println(\"hi\");\n    }\n",
    "for (int i = 0; i < n; i++) { a[i] += b[i] * c; }",
    "if x==1:\n  y=[1,2,3]\n  z={'k': (4, 5.0e-3)}\n",
    "    indented with four\n        and eight spaces\n",
    "0", "1234567890", "3.14159 2.71828 1e-10 -42 +7", "2024-01-01T12:34:56Z", "1,000,000.00 $5 €10 £20 ¥30",
    "007 0x1F 0b1010 1_000_000", "phone: +1 (555) 123-4567",
    "日本語のテキストです。", "中文分词测试，这是一个句子。", "한국어 문장입니다.", "Ελληνικά κείμενα", "Русский текст, ёжик.",
    "العربية نص", "עברית טקסט", "हिन्दी पाठ", "ภาษาไทย", "Tiếng Việt có dấu", "ქართული", "አማርኛ",
    "😀😃😄 👍🏽 👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 🇫🇷", "emoji at end 🎉", "🎉 emoji at start",
    "e\u0301 a\u0308 o\u0302 n\u0303 combining", "\u0301starts with a combining mark", "Z\u0351\u0352\u0353\u0354alg\u0355o",
    "café naïve résumé Ångström façade", "ﬁ ﬂ ﬀ ligatures and ＦＵＬＬＷＩＤＴＨ ｋａｔａｋａｎａ ｶﾀｶﾅ",
    "∀x∈ℝ: x² ≥ 0 ∑ ∫ √ ∞ ≠ ≈ ±", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕯𝖔𝖚𝖇𝖑𝖊 𝒮𝒸𝓇𝒾𝓅𝓉", "\U0010fffd \U000e0001 \U0001f9ff",
    "\ufeffBOM at start", "zero\u200bwidth\u200cjoiner\u200d", "nbsp\u00a0here", "ideographic\u3000space", "\u2028\u2029 separators",
    "\x00 nul", "\x01\x02\x1f\x7f controls", "\ue000\uf8ff private use", "\u2581 a literal lower one eighth block \u2581\u2581",
    "<s> </s> <unk> <0x41> <pad> are just text", "<s>Hello</s>", "▁Hello▁world",
    "a" * 1000, "supercalifragilisticexpialidocious" * 30, "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "https://example.com/path/to/page?query=1&other=two#frag", '{"key": "value", "n": [1, 2, 3], "nested": {"a": null}}',
    "<html><body><p class=\"x\">Hi &amp; bye</p></body></html>", "SELECT * FROM t WHERE a = 'b' ORDER BY c DESC;",
    "tab\tseparated\tvalues\n1\t2\t3\n", "trailing newline\n", "mixed\t \t \twhitespace \n\t\n",
    "!!!???...,,,;;;:::---___===+++", "((((nested))))[[[[brackets]]]]{{{{braces}}}}",
    "ALL CAPS SENTENCE WITH SOME WORDS", "camelCaseIdentifier snake_case_identifier kebab-case-identifier",
]

rng = random.Random(20240611)
ranges = [(0x20, 0x7e)] * 6 + [(0x09, 0x0d), (0xa0, 0x2ff), (0x300, 0x36f), (0x370, 0x3ff), (0x400, 0x4ff),
          (0x590, 0x6ff), (0x900, 0x97f), (0x3040, 0x30ff), (0x4e00, 0x9fff), (0xac00, 0xd7a3), (0xe000, 0xe0ff),
          (0xff00, 0xffef), (0x1f300, 0x1faff), (0x10000, 0x10ffff), (0x2580, 0x2582)]
for n in list(range(1, 40)) + [64, 100, 200, 500, 2000]:
    s = []
    for _ in range(n):
        lo, hi = rng.choice(ranges)
        s.append(chr(rng.randint(lo, hi)))
    texts.append("".join(s))
words = ["the", "of", "and", "tokenizer", "Llama", "RAT", "attention", "recurrence", "über", "naïve", "東京", "🚀", "x", "", " ", "\t", "\n"]
for n in [5, 20, 100, 400]:
    texts.append(" ".join(rng.choice(words) for _ in range(n)))

encode = [{"text": t, "ids": sp.encode(t)} for t in texts]

# spm_encode must agree wherever it can see a text whole.
one_line = [e for e in encode if "\n" not in e["text"] and "\r" not in e["text"] and e["text"] != ""]
res = subprocess.run(["spm_encode", "--model=" + model, "--output_format=id"],
                     input=("\n".join(e["text"] for e in one_line) + "\n").encode("utf-8"), capture_output=True, check=True)
lines = res.stdout.decode("utf-8").split("\n")[:-1]
assert len(lines) == len(one_line), (len(lines), len(one_line))
for e, line in zip(one_line, lines):
    got = [int(x) for x in line.split()]
    assert got == e["ids"], (e["text"], got, e["ids"])

V = sp.get_piece_size()
byte_ids = [sp.piece_to_id("<0x%02X>" % b) for b in range(256)]
space = sp.piece_to_id("\u2581")
decode_ids = [
    [], [sp.bos_id()], [sp.eos_id()], [sp.unk_id()], [sp.bos_id(), sp.eos_id()], [space], [space, space],
    [space, sp.piece_to_id("\u2581Hello")], [sp.bos_id(), space, sp.piece_to_id("\u2581Hello")],
    [sp.piece_to_id("\u2581Hello"), sp.piece_to_id("\u2581world")], [sp.piece_to_id("Hello"), space],
    [byte_ids[0x0A], sp.piece_to_id("\u2581Hello")], [byte_ids[0xE2], byte_ids[0x82], byte_ids[0xAC]],
    [byte_ids[0xE2], byte_ids[0x82]], [byte_ids[0xE2], sp.piece_to_id("\u2581a"), byte_ids[0x82], byte_ids[0xAC]],
    [byte_ids[0xC0], byte_ids[0x80]], [byte_ids[0xED], byte_ids[0xA0], byte_ids[0x80]], [byte_ids[0xF4], byte_ids[0x90], byte_ids[0x80], byte_ids[0x80]],
    [byte_ids[0xEF], byte_ids[0xBF], byte_ids[0xBD]], [byte_ids[0xFF], byte_ids[0xFE]], [byte_ids[0xF0], byte_ids[0x9F], byte_ids[0x98], byte_ids[0x80]],
    [sp.unk_id(), sp.unk_id(), space, sp.unk_id()], [sp.bos_id(), sp.unk_id(), sp.piece_to_id("\u2581Hello")],
]
for n in [1, 2, 3, 5, 8, 13, 21, 40]:
    for _ in range(8):
        decode_ids.append([rng.choice(byte_ids) for _ in range(n)])
        decode_ids.append([rng.randrange(V) for _ in range(n)])
        decode_ids.append([rng.choice(byte_ids[0x80:]) if rng.random() < 0.7 else rng.randrange(V) for _ in range(n)])
decode = [{"ids": ids, "text": sp.decode(ids)} for ids in decode_ids]

meta = {"sentencepiece": spm.__version__, "model_md5": __import__("hashlib").md5(open(model, "rb").read()).hexdigest()}
for name, cases in [("llama2-encode.json", encode), ("llama2-decode.json", decode)]:
    with open(out + "/" + name, "w", encoding="utf-8") as f:
        # One case per line, so diffs of a regeneration stay readable.
        head = json.dumps({"generated_by": "regenerate.sh", **meta})[:-1]
        f.write(head + ', "cases": [\n' + ",\n".join(json.dumps(c, ensure_ascii=True) for c in cases) + "\n]}\n")
    print("regenerate.sh: wrote %s (%d cases)" % (name, len(cases)))
PY

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" "$here" <<'PY'
import json, os, random, shutil, subprocess, sys
import sentencepiece as spm

tmp, out = sys.argv[1], sys.argv[2]
rng = random.Random(7)
words = ("the of and to in is was for on that with as by at from his her it an were are which this be or has had not "
         "but also first one new after who their its into two all more other they been over most when time than some "
         "only made three years him later city school film people world called became before national series state "
         "The City School Film People World A B C x y z 0 1 2 3 4 5 42 2024 3.14 , . ! ? ( ) - ' \" : ; cafe fi TM").split()
lines = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 15))) for _ in range(3000)]
corpus = os.path.join(tmp, "corpus.txt")
with open(corpus, "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
# Normalization rules as SentencePiece's builder reads them: source code points TAB target code points (hex).
rules = ["FF21\t41", "FF22\t42", "FF23\t43", "FF41\t61", "FF42\t62", "FF43\t63", "3000\t20", "A0\t20", "9\t20",
         "FB01\t66 69", "2122\t54 4D", "65 301\tE9", "200B\t", "2460\t31", "32 33 34\t34 33 32"]
denorm = ["54 4D\t2122", "E9\t65 301"]
for name, lines_ in [("rules.tsv", rules), ("denorm.tsv", denorm)]:
    with open(os.path.join(tmp, name), "w") as f:
        f.write("\n".join(lines_) + "\n")

common = ["--input=" + corpus, "--model_type=bpe", "--character_coverage=1.0", "--minloglevel=2"]
models = {
    "tiny-rules": ["--vocab_size=200", "--normalization_rule_tsv=" + os.path.join(tmp, "rules.tsv"),
                   "--denormalization_rule_tsv=" + os.path.join(tmp, "denorm.tsv"),
                   "--user_defined_symbols=<tag>,@@,xyz", "--control_symbols=<ctl>"],
    "tiny-bytes": ["--vocab_size=400", "--normalization_rule_name=identity", "--byte_fallback=true",
                   "--add_dummy_prefix=false", "--remove_extra_whitespaces=false", "--allow_whitespace_only_pieces=true",
                   "--split_digits=true", "--user_defined_symbols=<tag>"],
    "tiny-suffix": ["--vocab_size=350", "--normalization_rule_name=identity", "--byte_fallback=true",
                    "--remove_extra_whitespaces=false", "--treat_whitespace_as_suffix=true"],
}
for name, args in models.items():
    subprocess.run(["spm_train", "--model_prefix=" + os.path.join(tmp, name)] + common + args, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

# tiny-unused: tiny-bytes with every fifth NORMAL piece of two or more characters retyped UNUSED (type 5).
def varint(b, i):
    v = shift = 0
    while True:
        v |= (b[i] & 0x7F) << shift
        shift += 7
        i += 1
        if b[i - 1] < 0x80:
            return v, i
def put_varint(v):
    o = bytearray()
    while True:
        if v < 0x80:
            o.append(v)
            return bytes(o)
        o.append(v & 0x7F | 0x80)
        v >>= 7
def fields(b):
    i = 0
    while i < len(b):
        tag, i = varint(b, i)
        start = i
        wt = tag & 7
        if wt == 0: _, i = varint(b, i)
        elif wt == 1: i += 8
        elif wt == 5: i += 4
        elif wt == 2:
            n, i = varint(b, i)
            start, i = i, i + n
        yield tag, b[start:i]
src = open(os.path.join(tmp, "tiny-bytes.model"), "rb").read()
outb, normal = bytearray(), 0
for tag, payload in fields(src):
    if tag >> 3 == 1:
        piece, ptype, rest = None, 1, bytearray()
        for t, p in fields(payload):
            if t >> 3 == 1: piece = p.decode("utf-8")
            if t >> 3 == 3: ptype = varint(p, 0)[0]
            else: rest += put_varint(t) + (put_varint(len(p)) + p if t & 7 == 2 else p)
        if ptype == 1 and len(piece) >= 2:
            normal += 1
            if normal % 5 == 0: ptype = 5
        payload = bytes(rest) + put_varint(3 << 3) + put_varint(ptype)
    outb += put_varint(tag) + (put_varint(len(payload)) + payload if tag & 7 == 2 else payload)
open(os.path.join(tmp, "tiny-unused.model"), "wb").write(bytes(outb))

texts = ["", " ", "   ", "\t", "\n", "the city", "  the   city  ", "the\tcity\t\tschool", "The City School\n\nFilm",
         "Ａｂｃ　ａｂｃ\u00a0the ﬁrst™ cafe\u0301 caf\u00e9 zero\u200bwidth \u2460 1234 2341 234234",
         "<tag>the@@city xyz xy <ta @ <ctl> <s> </s> <unk>", "<tag><tag>@@@@@xyzxyz", "日本語 😀 and ñ unknown ünïcödé",
         "日本 😀😀 runs of unknowns 日日日", "\u2581 literal block \u2581\u2581", "42 3.14 2024 0123456789",
         "trailing spaces   ", "   leading spaces", "only\u200b\u200b\u200bzero width", "\u3000\u3000", "x" * 300]
alphabet = list("abcdefghijklmnopqrstuvwxyzTCSFPWABC0123456789 .,!?'") + [" ", " ", " ", "\t", "\n", "Ａ", "ａ", "\u3000",
            "\u00a0", "ﬁ", "™", "e\u0301", "\u200b", "\u2460", "234", "<tag>", "<ta", "@@", "@", "xyz", "xy", "日", "😀",
            "\u00e9", "<ctl>", "\u2581", "\u0301"]
for n in list(range(1, 30)) + [50, 100]:
    for _ in range(2):
        texts.append("".join(rng.choice(alphabet) for _ in range(n)))

result = {}
for name in ["tiny-rules", "tiny-bytes", "tiny-suffix", "tiny-unused"]:
    path = os.path.join(tmp, name + ".model")
    sp = spm.SentencePieceProcessor(model_file=path)
    encode = [{"text": t, "ids": sp.encode(t)} for t in texts]
    one_line = [e for e in encode if "\n" not in e["text"] and "\r" not in e["text"] and e["text"].strip() != ""]
    res = subprocess.run(["spm_encode", "--model=" + path, "--output_format=id"],
                         input=("\n".join(e["text"] for e in one_line) + "\n").encode("utf-8"), capture_output=True, check=True)
    lines_ = res.stdout.decode("utf-8").split("\n")[:-1]
    assert len(lines_) == len(one_line), (name, len(lines_), len(one_line))
    for e, line in zip(one_line, lines_):
        assert [int(x) for x in line.split()] == e["ids"], (name, e["text"], line, e["ids"])
    V = sp.get_piece_size()
    decode_ids = [[], [sp.unk_id()], [sp.unk_id(), sp.unk_id()]] + [[rng.randrange(V) for _ in range(n)] for n in range(1, 40) for _ in range(3)]
    decode = [{"ids": ids, "text": sp.decode(ids)} for ids in decode_ids]
    result[name + ".model"] = {"encode": encode, "decode": decode}
    shutil.copy(path, os.path.join(out, name + ".model"))
    print("regenerate.sh: wrote %s.model (%d bytes, %d pieces)" % (name, os.path.getsize(path), V))

with open(os.path.join(out, "tiny-cases.json"), "w", encoding="utf-8") as f:
    f.write('{"generated_by": "regenerate.sh", "sentencepiece": "%s", "models": {\n' % spm.__version__)
    f.write(",\n".join('"%s": {"encode": [\n%s\n], "decode": [\n%s\n]}' % (
        name, ",\n".join(json.dumps(c) for c in r["encode"]), ",\n".join(json.dumps(c) for c in r["decode"]))
        for name, r in result.items()))
    f.write("\n}}\n")
print("regenerate.sh: wrote tiny-cases.json")
PY
