// The login page: *Logga in med regionens konto* for each region that signs in with its
// identity provider, and the password form where local logins are still allowed (with the
// break-glass account's code field where one may be used). What the provider's answer
// came to arrives as `?fel=` and is said in words.

/** The texts of `?fel=` codes, by key in STRINGS. */
const ERRORS = {
  grupp: 'oidcNoGroup', niva: 'oidcTooWeak', tid: 'oidcExpired', leverantor: 'oidcProvider',
  nekad: 'oidcRefused', slut: 'oidcEnded', region: 'oidcRegion',
};

/** The error the address carries, once: it is taken off the address so a reload does not
 * show it again. */
export function providerError(t) {
  const params = new URLSearchParams(location.search);
  const code = params.get('fel');
  if (!code) return null;
  history.replaceState(null, '', location.pathname);
  return t(ERRORS[code] ?? 'oidcRefused');
}

/** Draws the login page into `main`. `submit(body)` logs in with a password; the page's
 * own retry and wording stay with the caller. */
export async function drawSignIn(main, { h, t, api }, { error, fromProvider, username = '', submit }) {
  const options = await api('/dashboard/api/sign-in').catch(() => ({ providers: [], passwords: true, code: false }));
  const parts = [];
  for (const p of options.providers) {
    const label = options.providers.length > 1 ? t('oidcLoginIn', { region: p.region_name }) : t('oidcLogin');
    parts.push(h('p', {}, h('a', { class: 'button primary provider-login', id: `oidc-${p.region}`, href: p.start }, label)));
  }
  // What the provider's answer came to, under its button; a password's error in the form.
  if (fromProvider) {
    parts.push(h('p', { class: 'error', role: 'alert', id: 'provider-error' }, fromProvider,
      fromProvider === t('oidcProvider') && options.code ? ` ${t('oidcBreakGlass')}` : ''));
  }
  const said = error ? h('p', { class: 'error', role: 'alert', id: 'login-error' }, error) : null;
  let form = null;
  if (options.passwords) {
    const user = h('input', { id: 'username', autocomplete: 'username', required: true, value: username });
    const pass = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const code = options.code
      ? h('input', { id: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 })
      : null;
    const status = h('p', { class: 'status', role: 'status' });
    form = h('form', { class: 'login', id: 'login-form' },
      options.providers.length ? h('p', { class: 'meta' }, t(options.code ? 'breakGlassOnly' : 'localLogin')) : null,
      h('label', { for: 'username' }, t('user')), user,
      h('label', { for: 'password' }, t('password')), pass,
      code ? [h('label', { for: 'code' }, t('totpCode')), code] : null,
      said,
      h('p', {}, h('button', { type: 'submit', class: options.providers.length ? '' : 'primary' }, t('login'))),
      status);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = { username: user.value, password: pass.value };
      if (code?.value) body.code = code.value;
      submit(JSON.stringify(body), status, user.value);
    });
    setTimeout(() => (options.providers.length ? null : (username ? pass : user).focus()), 0);
  }
  main.replaceChildren(h('div', { class: 'signin' }, parts, form ? null : said, form));
  if (options.providers.length) document.querySelector('.provider-login')?.focus();
}
