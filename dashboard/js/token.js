/**
 * The API token: asked for once when an API call answers 401, kept in sessionStorage
 * (this tab only, gone when it closes). Concurrent 401s share one prompt.
 */
const KEY = 'executor.apiToken';
let asking = null;

export function storedToken() {
  return sessionStorage.getItem(KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/** Shows the token form; resolves with the token the user entered. `rejected`: the last one was refused. */
export function askForToken(rejected = false) {
  if (asking) return asking;
  asking = new Promise((resolve) => {
    const dialog = document.getElementById('token-dialog');
    const form = document.getElementById('token-form');
    const input = document.getElementById('token-input');
    const error = document.getElementById('token-error');
    error.hidden = !rejected;
    error.textContent = rejected ? 'That token was refused. Check it and try again.' : '';
    input.value = '';
    const onSubmit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      form.removeEventListener('submit', onSubmit);
      sessionStorage.setItem(KEY, token);
      dialog.close();
      asking = null;
      resolve(token);
    };
    form.addEventListener('submit', onSubmit);
    // Escape would leave the page without a token: keep the dialog until one is given.
    dialog.addEventListener('cancel', (event) => event.preventDefault(), { once: true });
    dialog.showModal();
    input.focus();
  });
  return asking;
}
