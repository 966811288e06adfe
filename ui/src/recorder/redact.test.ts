import { describe, expect, it } from 'vitest';
import { REDACTED, redactBody, redactHeaders, sensitive } from './redact';

describe('recorder redaction', () => {
  it('matches whole words of field names, as the engine does', () => {
    for (const k of ['authorization', 'Set-Cookie', 'password', 'cardNumber', 'card_number', 'user.password', 'api_key', 'apiKey', 'X-API-Key', 'cvv', 'refreshToken']) {
      expect(sensitive(k), k).toBe(true);
    }
    for (const k of ['discard', 'output_tokens', 'cardinality', 'spinner', 'keyboard', 'content-type', 'quantity']) {
      expect(sensitive(k), k).toBe(false);
    }
  });

  it('redacts credential headers and keeps the rest', () => {
    expect(redactHeaders([['Authorization', 'Bearer x'], ['Content-Type', 'application/json']])).toEqual({
      authorization: REDACTED,
      'content-type': 'application/json',
    });
  });

  it('redacts JSON, cut-off JSON and forms', () => {
    expect(redactBody('{"card":{"number":"4111","cvv":"123"},"items":[{"password":"p","qty":2}]}')).toBe(
      `{"card":"${REDACTED}","items":[{"password":"${REDACTED}","qty":2}]}`,
    );
    expect(redactBody('{"qty":2,"cardNumber":"4111 1111","note":"tok')).toBe(`{"qty":2,"cardNumber":"${REDACTED}","note":"tok`);
    expect(redactBody('user=ann&password=hunter2&remember=1')).toBe(`user=ann&password=${REDACTED}&remember=1`);
    expect(redactBody('plain text with password=1 in it')).toBe('plain text with password=1 in it');
  });
});
