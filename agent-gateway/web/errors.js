// The web chat's error line: what went wrong in words a person reads, and a
// Retry button when trying again can help.

const $ = (id) => document.getElementById(id);

/** Show `error` (an ApiError or a network failure); `canRetry` when there is
 * a message to send again. */
export function showError(error, canRetry) {
  if (error.status === 401) return; // back at sign-in already
  let text = error.message || "Something went wrong.";
  let retry = false;
  if (error.status === 429 && ["budget_exhausted", "quota_exceeded"].includes(error.code)) {
    text = error.message;
  } else if (error.status === 429) {
    text = `You are sending messages too fast: try again in ${error.retryAfter || 60} s.`;
  } else if ([502, 503, 504].includes(error.status)) {
    retry = true;
  } else if (!error.status) {
    text = "The gateway cannot be reached. Check your connection.";
    retry = true;
  }
  $("error-text").textContent = text;
  $("retry").hidden = !retry || !canRetry;
  $("error").hidden = false;
}

export function hideError() {
  $("error").hidden = true;
}
