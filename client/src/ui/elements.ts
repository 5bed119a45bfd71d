// Tiny DOM helpers shared by the panels.
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

export function button(label: string, onClick: () => void, props: Partial<HTMLButtonElement> & { dataset?: Record<string, string> } = {}): HTMLButtonElement {
  const b = element('button', { type: 'button', textContent: label, ...props });
  b.addEventListener('click', onClick);
  return b;
}

/** A hidden file input, clicked to let the user choose a file. */
export function chooseFile(accept: string, onFile: (file: File) => void): void {
  const input = element('input', { type: 'file', accept });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) onFile(file);
  });
  input.click();
}
