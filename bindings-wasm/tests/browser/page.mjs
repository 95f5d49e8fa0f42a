// Loaded by index.html in headless Chromium (tests/browser.test.mjs): imports the web build, verifies the
// delivery the CLI signed (fixture.json, served by the test) and a forged copy, and publishes the verdicts.
import { Verifier, WebhookVerificationError, version } from '/index.web.mjs';

function verdict(run) {
  try {
    const event = run();
    return { ok: true, id: event.id, type: event.type, matchedSecret: event.matchedSecret, data: event.data };
  } catch (error) {
    return {
      ok: false,
      name: error?.name,
      code: error?.code ?? null,
      isVerificationError: error instanceof WebhookVerificationError,
      isError: error instanceof Error,
    };
  }
}

async function verdictAsync(run) {
  try {
    const event = await run();
    return { ok: true, id: event.id, bodyBytes: event.rawBody.length };
  } catch (error) {
    return { ok: false, name: error?.name, code: error?.code ?? null };
  }
}

const verdicts = { version, userAgent: navigator.userAgent };
try {
  const fixture = await (await fetch('/fixture.json')).json();
  const verifier = new Verifier(fixture.secret);
  const bytes = new TextEncoder().encode(fixture.body);
  verdicts.genuineText = verdict(() => verifier.verify(fixture.body, fixture.headers));
  verdicts.genuineBytes = verdict(() => verifier.verify(bytes, new Headers(fixture.headers)));
  verdicts.forged = verdict(() => verifier.verify(fixture.forgedBody, fixture.headers));
  const request = (body) =>
    new Request(new URL('/hook', location.href), { method: 'POST', headers: fixture.headers, body });
  verdicts.genuineRequest = await verdictAsync(() => verifier.verifyRequest(request(fixture.body)));
  verdicts.forgedRequest = await verdictAsync(() => verifier.verifyRequest(request(fixture.forgedBody)));
} catch (error) {
  verdicts.pageError = String(error?.stack ?? error);
}
document.getElementById('verdicts').textContent = JSON.stringify(verdicts, null, 2);
// Not `window.verdicts`: the element with id "verdicts" already answers to that name (named access on
// window), so a test waiting for it would read the element before this script finished.
window.anchorVerdicts = verdicts;
