"""NVIDIA's own Python client (nvidia-riva-client, pinned in scripts/install-riva-client.sh) against the
dev speech server. Run by speech-server/test/riva-python-client.test.ts in one process (the client takes
~1 s to import), it calls the server the way NVIDIA's scripts do and prints one JSON object with what
each check saw; the TypeScript test asserts on it. A check that raises records the gRPC status instead.

Usage: python checks.py <config.json>   (addresses, certificate paths and audio files; see the test)
"""

import json
import sys
import time
import wave

import grpc
import riva.client
from riva.client.proto import riva_asr_pb2, riva_tts_pb2

cfg = json.load(open(sys.argv[1]))
results = {}


def check(name):
    def wrap(fn):
        t0 = time.monotonic()
        try:
            results[name] = fn()
        except grpc.RpcError as e:
            results[name] = {"code": e.code().name, "details": e.details()}
        results[name]["ms"] = round((time.monotonic() - t0) * 1000)
        return fn

    return wrap


plain = riva.client.Auth(uri=cfg["uri"])
asr = riva.client.ASRService(plain)
tts = riva.client.SpeechSynthesisService(plain)


def asr_config(**kw):
    base = dict(language_code="en-US", max_alternatives=1, verbatim_transcripts=True)
    base.update(kw)
    return riva.client.RecognitionConfig(**base)


def stream(config, chunks, interim=True):
    """Like riva_streaming_asr_client.py: every result, interims and finals."""
    sc = riva.client.StreamingRecognitionConfig(config=config, interim_results=interim)
    finals, interims, words = [], 0, []
    for resp in asr.streaming_response_generator(audio_chunks=chunks, streaming_config=sc):
        for r in resp.results:
            if not r.alternatives:
                continue
            if r.is_final:
                finals.append(r.alternatives[0].transcript)
                words += [[w.word, w.start_time, w.end_time] for w in r.alternatives[0].words]
            else:
                interims += 1
    return {"finals": finals, "interims": interims, "words": words}


def file_chunks(path, frames=1600):
    """transcribe_file.py: the raw file bytes, WAV header in the first chunk."""
    return riva.client.AudioChunkFileIterator(path, frames)


def pcm_of(path):
    with wave.open(path, "rb") as w:
        return w.readframes(w.getnframes())


@check("list_models")
def _():
    resp = asr.stub.GetRivaSpeechRecognitionConfig(riva_asr_pb2.RivaSpeechRecognitionConfigRequest())
    return {"models": [[m.model_name, m.parameters["type"], m.parameters["language_code"]] for m in resp.model_config]}


@check("stream_pcm16k")
def _():
    pcm = pcm_of(cfg["wav16"])
    chunks = [pcm[i : i + 3200] for i in range(0, len(pcm), 3200)]
    config = asr_config(encoding=riva.client.AudioEncoding.LINEAR_PCM, sample_rate_hertz=16000, enable_word_time_offsets=True)
    return stream(config, chunks)


@check("stream_wav_header")
def _():
    # The rate copied from the header as transcribe_file.py does, encoding left at its LINEAR_PCM default.
    config = asr_config(encoding=riva.client.AudioEncoding.LINEAR_PCM)
    riva.client.add_audio_file_specs_to_config(config, cfg["wav16"])
    return stream(config, file_chunks(cfg["wav16"]))


@check("stream_wav_header_unset")
def _():
    # Encoding and rate left at 0: the server must sniff the header (jetson-containers#366).
    return stream(asr_config(), file_chunks(cfg["wav16"]), interim=False)


@check("stream_mulaw8k")
def _():
    # As transcribe_file.py sends it: add_audio_file_specs cannot parse a mu-law header (Python's wave
    # module), so the rate stays 0 and the encoding at LINEAR_PCM; the server reads the header.
    config = asr_config(encoding=riva.client.AudioEncoding.LINEAR_PCM, enable_word_time_offsets=True)
    riva.client.add_audio_file_specs_to_config(config, cfg["wav8mulaw"])
    riva.client.add_word_boosting_to_config(config, cfg["boost_words"], 20.0)
    return stream(config, file_chunks(cfg["wav8mulaw"], 800))


@check("offline_wav")
def _():
    config = asr_config(enable_word_time_offsets=True)
    riva.client.add_audio_file_specs_to_config(config, cfg["wav16"])
    resp = asr.offline_recognize(open(cfg["wav16"], "rb").read(), config)
    # transcribe_file_offline.py / print_offline: final_transcript += transcript
    final_transcript = ""
    words = []
    for r in resp.results:
        final_transcript += r.alternatives[0].transcript
        words += [[w.word, w.start_time, w.end_time] for w in r.alternatives[0].words]
    return {"results": len(resp.results), "final_transcript": final_transcript, "words": words}


@check("offline_boosted")
def _():
    # Python's wave module cannot read mu-law, so the file goes as it is, header included.
    config = asr_config(encoding=riva.client.AudioEncoding.MULAW, sample_rate_hertz=8000)
    riva.client.add_word_boosting_to_config(config, cfg["boost_words"], 20.0)
    resp = asr.offline_recognize(open(cfg["wav8mulaw"], "rb").read(), config)
    return {"final_transcript": "".join(r.alternatives[0].transcript for r in resp.results)}


@check("tts_offline")
def _():
    out = {}
    for rate in cfg["tts_rates"]:
        resp = tts.synthesize(cfg["tts_text"], voice_name="English-US.Male-1", language_code="en-US", sample_rate_hz=rate)
        out[str(rate)] = len(resp.audio)
    return {"bytes": out}


@check("tts_streaming")
def _():
    out = {}
    for rate in cfg["tts_stream_rates"]:
        chunks = [len(r.audio) for r in tts.synthesize_online(cfg["tts_text"], language_code="en-US", sample_rate_hz=rate)]
        out[str(rate)] = {"chunks": len(chunks), "bytes": sum(chunks)}
    # Several requests on one bidirectional stream (Riva common@2026-03), as a list of texts.
    multi = [len(r.audio) for r in tts.synthesize_online(["One sentence.", "Another one."], sample_rate_hz=16000)]
    return {"rates": out, "two_requests_bytes": sum(multi)}


@check("list_voices")
def _():
    resp = tts.stub.GetRivaSynthesisConfig(riva_tts_pb2.RivaSynthesisConfigRequest())
    # talk.py --list-voices: voice_name + "." + each subvoice name
    voices = []
    for m in resp.model_config:
        for sub in m.parameters["subvoices"].split(","):
            voices.append(m.parameters["voice_name"] + "." + sub.split(":")[0])
    return {"voices": voices, "language_code": resp.model_config[0].parameters["language_code"]}


@check("metadata_plaintext")
def _():
    auth = riva.client.Auth(uri=cfg["uri"], metadata_args=[["function-id", cfg["function_id"]], ["authorization", "Bearer test-key"]])
    resp = riva.client.SpeechSynthesisService(auth).synthesize("Hello.", sample_rate_hz=16000)
    return {"bytes": len(resp.audio)}


@check("tls")
def _():
    auth = riva.client.Auth(uri=cfg["tls_uri"], use_ssl=True, ssl_root_cert=cfg["ca"],
                            metadata_args=[["function-id", cfg["function_id"]], ["authorization", "Bearer test-key"]])
    config = asr_config()
    riva.client.add_audio_file_specs_to_config(config, cfg["wav16"])
    resp = riva.client.ASRService(auth).offline_recognize(open(cfg["wav16"], "rb").read(), config)
    audio = riva.client.SpeechSynthesisService(auth).synthesize("Hello.", sample_rate_hz=16000).audio
    return {"final_transcript": "".join(r.alternatives[0].transcript for r in resp.results), "tts_bytes": len(audio)}


@check("tls_plaintext_client")
def _():
    auth = riva.client.Auth(uri=cfg["tls_uri"])
    riva.client.SpeechSynthesisService(auth).stub.GetRivaSynthesisConfig(riva_tts_pb2.RivaSynthesisConfigRequest(), timeout=5)
    return {"code": "OK"}


@check("mtls")
def _():
    auth = riva.client.Auth(uri=cfg["mtls_uri"], ssl_root_cert=cfg["ca"], ssl_client_cert=cfg["client_cert"], ssl_client_key=cfg["client_key"])
    resp = riva.client.SpeechSynthesisService(auth).stub.GetRivaSynthesisConfig(riva_tts_pb2.RivaSynthesisConfigRequest())
    return {"code": "OK", "models": len(resp.model_config)}


@check("mtls_no_client_cert")
def _():
    auth = riva.client.Auth(uri=cfg["mtls_uri"], ssl_root_cert=cfg["ca"])
    riva.client.SpeechSynthesisService(auth).stub.GetRivaSynthesisConfig(riva_tts_pb2.RivaSynthesisConfigRequest(), timeout=5)
    return {"code": "OK"}


def expect_status(fn):
    try:
        fn()
        return {"code": "OK"}
    except grpc.RpcError as e:
        return {"code": e.code().name, "details": e.details()}


pcm = b"\0" * 3200


@check("bad_inputs")
def _():
    pcm_cfg = dict(encoding=riva.client.AudioEncoding.LINEAR_PCM, sample_rate_hertz=16000)
    return {
        "unknown_language": expect_status(lambda: asr.offline_recognize(pcm, asr_config(**{**pcm_cfg, "language_code": "de-DE"}))),
        "unknown_model": expect_status(lambda: stream(asr_config(**pcm_cfg, model="parakeet-1.1b-en-US-asr-streaming"), [pcm])),
        "bad_rate": expect_status(lambda: asr.offline_recognize(pcm, asr_config(encoding=riva.client.AudioEncoding.LINEAR_PCM, sample_rate_hertz=1234))),
        "flac": expect_status(lambda: asr.offline_recognize(pcm, asr_config(encoding=riva.client.AudioEncoding.FLAC, sample_rate_hertz=16000))),
        "no_format": expect_status(lambda: asr.offline_recognize(pcm, asr_config())),
        "unknown_voice": expect_status(lambda: tts.synthesize("Hello.", voice_name="English-US.Robot-9")),
        "tts_unknown_language": expect_status(lambda: tts.synthesize("Hallo.", language_code="de-DE")),
        "tts_empty_text": expect_status(lambda: tts.synthesize("   ")),
        "tts_oggopus": expect_status(lambda: tts.synthesize("Hello.", encoding=riva.client.AudioEncoding.OGGOPUS)),
        "json_not_protobuf": expect_status(
            lambda: plain.channel.unary_unary(
                "/nvidia.riva.tts.RivaSpeechSynthesis/Synthesize",
                request_serializer=lambda b: b,
                response_deserializer=lambda b: b,
            )(b'{"text": "hello"}', timeout=5)
        ),
    }


print(json.dumps(results))
