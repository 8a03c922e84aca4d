/**
 * Unary Riva calls: model and voice discovery, health. Each has a deadline (the channel's
 * `unaryTimeoutMs`) and is retried on UNAVAILABLE by the channel's service config.
 */
import type * as grpc from '@grpc/grpc-js';
import type { HealthCheckResponse__Output } from '../../../../proto/src/generated/grpc/health/v1/HealthCheckResponse.ts';
import type {
  RivaSpeechRecognitionConfigResponse__Output,
  RivaSynthesisConfigResponse__Output,
} from '../../../../proto/src/index.ts';
import type { RivaChannel } from './channel.ts';
import { toAPIError } from './errors.ts';

/** Promisifies a grpc-js unary call with metadata, a deadline and optional cancellation. */
export function unaryCall<Res>(
  channel: RivaChannel,
  what: string,
  start: (md: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const call = start(channel.metadata(), channel.unaryOptions(options.timeoutMs), (err, res) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(toAPIError(err, what, channel.target));
      else if (res === undefined) reject(toAPIError(new Error('empty response'), what, channel.target));
      else resolve(res);
    });
    const onAbort = (): void => call.cancel();
    if (options.signal?.aborted) call.cancel();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RivaAsrModel {
  name: string;
  /** `online` (streaming) or `offline`. */
  type: string | undefined;
  languageCode: string | undefined;
  parameters: Record<string, string>;
}

export interface RivaTtsVoice {
  /** Model name as deployed. */
  model: string;
  languageCode: string | undefined;
  /** The voice to pass as `voice` (`voice_name` parameter). */
  voiceName: string | undefined;
  /** Sub-voices (`Name:idx` entries) when the model has several. */
  subvoices: string[];
  parameters: Record<string, string>;
}

/** Lists the ASR models the server has deployed (`GetRivaSpeechRecognitionConfig`). */
export async function listAsrModels(channel: RivaChannel, modelName = ''): Promise<RivaAsrModel[]> {
  const res = await unaryCall<RivaSpeechRecognitionConfigResponse__Output>(
    channel,
    'GetRivaSpeechRecognitionConfig',
    (md, o, cb) => channel.asr.GetRivaSpeechRecognitionConfig({ model_name: modelName }, md, o, cb),
  );
  return (res.model_config ?? []).map((c) => {
    const parameters = c.parameters ?? {};
    return {
      name: c.model_name ?? '',
      type: parameters.type,
      languageCode: parameters.language_code,
      parameters,
    };
  });
}

/** Lists the TTS voices the server has deployed (`GetRivaSynthesisConfig`). */
export async function listTtsVoices(channel: RivaChannel, modelName = ''): Promise<RivaTtsVoice[]> {
  const res = await unaryCall<RivaSynthesisConfigResponse__Output>(
    channel,
    'GetRivaSynthesisConfig',
    (md, o, cb) => channel.tts.GetRivaSynthesisConfig({ model_name: modelName }, md, o, cb),
  );
  return (res.model_config ?? []).map((c) => {
    const parameters = c.parameters ?? {};
    return {
      model: c.model_name ?? '',
      languageCode: parameters.language_code,
      voiceName: parameters.voice_name,
      subvoices: (parameters.subvoices ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      parameters,
    };
  });
}

export type RivaHealth = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'SERVICE_UNKNOWN';

/** `grpc.health.v1.Health/Check`; rejects with an error naming the target when unreachable. */
export async function checkHealth(
  channel: RivaChannel,
  service = '',
  timeoutMs: number = channel.connectTimeoutMs,
): Promise<RivaHealth> {
  const res = await unaryCall<HealthCheckResponse__Output>(
    channel,
    'health check',
    (md, o, cb) => channel.health.Check({ service }, md, o, cb),
    { timeoutMs },
  );
  return res.status ?? 'UNKNOWN';
}
