import { describe, expect, it } from 'vitest';
import { originAllowed } from './socket-origins.js';

describe('originAllowed', () => {
  it("admits the relay's own origin, listed ones and clients without an Origin", () => {
    expect(originAllowed('https://relay.example.org', 'relay.example.org', [])).toBe(true);
    expect(originAllowed('http://localhost:5173', 'relay:3000', ['http://localhost:5173'])).toBe(
      true,
    );
    expect(originAllowed(undefined, 'relay.example.org', [])).toBe(true);
  });

  it('refuses any other origin, and the opaque "null" one', () => {
    expect(originAllowed('https://evil.example', 'relay.example.org', [])).toBe(false);
    expect(originAllowed('null', 'relay.example.org', [])).toBe(false);
    expect(originAllowed('https://relay.example.org.evil.example', 'relay.example.org', [])).toBe(
      false,
    );
  });
});
