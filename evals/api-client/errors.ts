// The API's failures as the CLI reports them: one line naming the URL, the cause and the fix.
import { ApiError } from "../../worker/client.ts";
import { EvalsError } from "../errors.ts";

/** Nothing answers at the API's address. */
export class ApiUnreachableError extends EvalsError {}

/** The API refused the token (401) or its role (403). */
export class ApiAuthError extends EvalsError {}

/** The API refused the request (4xx other than auth); `status` and `code` are the API's. */
export class ApiRequestError extends EvalsError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The API failed on its side (5xx): not the user's input, so exit 1 like other bugs. */
export class ApiServerError extends EvalsError {
  override readonly exitCode = 1;
}

/** Turns a failed fetch or an `ApiError` into one of the errors above; others pass through. */
export function describeApiFailure(error: unknown, api: string, doing: string): unknown {
  if (error instanceof ApiError) {
    if (error.status === 401) {
      return new ApiAuthError(
        `the API at ${api} refused the token while ${doing} (401 ${error.detail}); ` +
          "pass a valid token with --token, EVALS_TOKEN or the config file",
      );
    }
    if (error.status === 403) {
      return new ApiAuthError(
        `the token may not do this while ${doing} (403 ${error.detail}); use a submit token`,
      );
    }
    if (error.status >= 500) {
      return new ApiServerError(
        `the API at ${api} failed while ${doing}: ${error.status} ${error.error}: ${error.detail}`,
      );
    }
    return new ApiRequestError(
      `the API refused ${doing}: ${error.status} ${error.error}: ${error.detail}`,
      error.status,
      error.error,
    );
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    const cause = (error.cause as { code?: string; message?: string } | undefined) ?? {};
    return new ApiUnreachableError(
      `cannot reach the evals API at ${api} (${cause.code ?? cause.message ?? "no answer"}); ` +
        "start a local one with `npm run api` (or `evals dev`), or pass --api <url> / set EVALS_API",
    );
  }
  return error;
}

/** Runs `call`, reporting API failures as `describeApiFailure` does. */
export async function callApi<T>(api: string, doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw describeApiFailure(error, api, doing);
  }
}
