import { h } from '../../dom.js';
import { t } from '../../i18n/i18n.js';
import type { ConsoleContext, View } from '../context.js';
import { adminAuditView } from './audit.js';
import { adminBoxesView } from './boxes.js';
import { adminFacilitiesView } from './facilities.js';
import { adminPoliciesView } from './policies.js';
import { adminUsersView } from './users.js';

/** The administrator's pages, in the order of the navigation; the first is the landing page. */
const PAGES = {
  facilities: adminFacilitiesView,
  boxes: adminBoxesView,
  users: adminUsersView,
  policies: adminPoliciesView,
  audit: adminAuditView,
} satisfies Record<string, (ctx: ConsoleContext) => View>;
type AdminPage = keyof typeof PAGES;

const isPage = (name: string): name is AdminPage => Object.hasOwn(PAGES, name);

export function adminHref(page: AdminPage): string {
  return `#/admin/${page}`;
}

function pageTitle(page: AdminPage): string {
  const titles: Record<AdminPage, string> = {
    facilities: t('admin:nav.facilities'),
    boxes: t('admin:nav.boxes'),
    users: t('admin:nav.users'),
    policies: t('admin:nav.policies'),
    audit: t('admin:nav.audit'),
  };
  return titles[page];
}

/**
 * The administrator's console: a navigation of its pages and the page the address names
 * (`#/admin/<page>`; anything else lands on the first).
 */
export function adminView(ctx: ConsoleContext, hash: string): View {
  const named = /^#\/admin\/([a-z-]+)$/.exec(hash)?.[1] ?? '';
  const page: AdminPage = isPage(named) ? named : 'facilities';
  const inner = PAGES[page](ctx);
  const nav = h(
    'nav',
    { class: 'admin-nav', 'aria-label': t('admin:nav.label') },
    h(
      'ul',
      {},
      (Object.keys(PAGES) as AdminPage[]).map((name) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: adminHref(name),
              'data-testid': `admin-nav-${name}`,
              'aria-current': name === page ? 'page' : null,
            },
            pageTitle(name),
          ),
        ),
      ),
    ),
  );
  document.title = t('admin:documentTitle', { page: pageTitle(page) });
  return {
    element: h('div', { class: 'admin-shell', 'data-admin-page': page }, nav, inner.element),
    dispose: () => inner.dispose(),
  };
}
