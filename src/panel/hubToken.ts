// The Hugging Face Hub token for gated and private models: "Prompt Attention: Set Hugging Face Token" keeps it
// in VS Code's SecretStorage (never in settings, never logged); the inspector hands it to the engine worker,
// which sends it to the Hub only (engine/runtime/hubDownload.ts). $HF_TOKEN still works when none is stored.
import * as vscode from 'vscode';

export const HUB_TOKEN_SECRET = 'promptAttention.hubToken';
export const SET_HUB_TOKEN_COMMAND = 'promptAttention.setHubToken';

/** Asks for the token; an empty answer removes the stored one. */
export async function setHubToken(secrets: vscode.SecretStorage): Promise<void> {
  const token = await vscode.window.showInputBox({
    title: 'Prompt Attention: Hugging Face token',
    prompt:
      "For gated or private Hub models. Stored in VS Code's secret storage and sent only to huggingface.co. Leave empty to remove it.",
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) return;
  if (token.trim() === '') {
    await secrets.delete(HUB_TOKEN_SECRET);
    void vscode.window.showInformationMessage('Prompt Attention: removed the Hugging Face token.');
    return;
  }
  await secrets.store(HUB_TOKEN_SECRET, token.trim());
  void vscode.window.showInformationMessage(
    "Prompt Attention: stored the Hugging Face token in VS Code's secret storage; the next Hub download uses it.",
  );
}

/** The stored token, or undefined (the worker then falls back to $HF_TOKEN). */
export async function storedHubToken(secrets: vscode.SecretStorage): Promise<string | undefined> {
  const token = await secrets.get(HUB_TOKEN_SECRET);
  return token?.trim() ? token.trim() : undefined;
}
