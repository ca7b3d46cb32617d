import { describe, expect, it } from 'vitest';
import { ApiFailure, describeError } from './api.js';

describe('describeError: the relay’s refusals in the page’s words', () => {
  it('says what the relay’s code means, not its English message', () => {
    const conflict = new ApiFailure(409, 'CONFLICT', 'Claimed by another reader');
    expect(describeError(conflict)).toBe(
      '情况已有变化（可能已有其他人处理），页面已显示最新状态。',
    );
    expect(describeError(new ApiFailure(0, 'NETWORK', 'The relay cannot be reached'))).toBe(
      '无法连接服务器，请检查网络后重试。',
    );
  });

  it('lets a place say more about a code it knows better', () => {
    const refused = new ApiFailure(401, 'UNAUTHENTICATED', 'Unknown user or wrong password');
    expect(describeError(refused, { UNAUTHENTICATED: '用户名或密码错误。' })).toBe(
      '用户名或密码错误。',
    );
    // Other codes keep their general words.
    expect(
      describeError(new ApiFailure(403, 'FORBIDDEN', 'Your role may not do this'), {
        UNAUTHENTICATED: '用户名或密码错误。',
      }),
    ).toBe('您的账号没有此项操作权限。');
  });

  it('falls back to the status, then to the relay’s own message', () => {
    expect(describeError(new ApiFailure(502, 'HTTP_502', 'Bad Gateway'))).toBe(
      '服务器未及时响应，请稍后再试。',
    );
    expect(describeError(new ApiFailure(418, 'TEAPOT', 'I am a teapot'))).toBe('I am a teapot');
  });

  it('says something for whatever else was thrown', () => {
    expect(describeError(new Error('chunk failed'))).toBe('出现错误：chunk failed');
    expect(describeError('??')).toBe('出现错误。');
  });
});
