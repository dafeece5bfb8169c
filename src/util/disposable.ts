// A base for objects that own other disposables (the vscode-hexeditor pattern): dispose once, the last
// registered first (reverse order, so an owner outlives what it created).

export interface IDisposable {
  dispose(): void;
}

export class Disposable implements IDisposable {
  private readonly _disposables: IDisposable[] = [];
  private _isDisposed = false;

  protected get isDisposed(): boolean {
    return this._isDisposed;
  }

  protected _register<T extends IDisposable>(value: T): T {
    if (this._isDisposed) {
      value.dispose();
    } else {
      this._disposables.push(value);
    }
    return value;
  }

  public dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    while (this._disposables.length) {
      this._disposables.pop()?.dispose();
    }
  }
}
