import type { AccessGrant } from '#contracts';
import { describeError } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n/i18n.js';
import type { ConsoleContext } from './context.js';

/**
 * The patient withdraws a consent before it runs out (docs/consent.md, "Revoking"): a
 * button on each live grant of the grants table (its rows carry `data-grant-id`). After the
 * relay has revoked it, `onRevoked` redraws the list, which then shows the grant as revoked.
 */
export function addRevokeButtons(
  ctx: ConsoleContext,
  table: HTMLElement,
  patientId: string,
  grants: AccessGrant[],
  onRevoked: () => void,
): HTMLElement {
  table.querySelector('thead tr')?.append(h('th', { scope: 'col' }, t('grantRevoke:column')));
  const now = Date.now();
  for (const row of table.querySelectorAll<HTMLTableRowElement>('tbody tr[data-grant-id]')) {
    const grant = grants.find((g) => g.id === row.dataset['grantId']);
    const live =
      grant !== undefined && grant.revokedAt === null && Date.parse(grant.expiresAt) > now;
    row.dataset['grantState'] = grant?.revokedAt ? 'revoked' : live ? 'live' : 'ended';
    const cell = h('td', {});
    if (grant && live) cell.append(revokeButton(ctx, patientId, grant, cell, onRevoked));
    row.append(cell);
  }
  return table;
}

function revokeButton(
  ctx: ConsoleContext,
  patientId: string,
  grant: AccessGrant,
  cell: HTMLElement,
  onRevoked: () => void,
): HTMLButtonElement {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button secondary small',
      'data-testid': 'revoke-grant',
      'aria-label': t('grantRevoke:buttonLabel', { name: grant.granteeName }),
      onclick: () => {
        const question = t('grantRevoke:confirm', {
          name: grant.granteeName,
          facility: grant.facilityName,
        });
        if (!window.confirm(question)) return;
        button.disabled = true;
        ctx.api.revokeGrant(patientId, grant.id).then(
          () => {
            ctx.announce(t('grantRevoke:done', { name: grant.granteeName }));
            onRevoked();
          },
          (failure: unknown) => {
            button.disabled = false;
            cell.append(h('p', { class: 'alert', role: 'alert' }, describeError(failure)));
          },
        );
      },
    },
    t('grantRevoke:button'),
  );
  return button;
}
