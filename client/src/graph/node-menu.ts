// The right-click menus, limited to what works in Limelight: on a node Title, Bypass (Ctrl+B), Mute
// (Ctrl+M), Pin, Colors, Shapes, Collapse, Clone and Remove; on the canvas Add Node, Add Group and, with
// a selection, Group selected (Ctrl+G) and Align. litegraph's Mode list (events and triggers, which
// Limelight doesn't have) and Convert to Subgraph (which the prompt builder cannot read) are left out.
import { LGraphCanvas, LGraphEventMode, LGraphGroup, type IContextMenuValue, type LGraphNode } from '@comfyorg/litegraph';
import { toggleMode } from './node-modes.ts';

type MenuEntry = IContextMenuValue | null;
type MenuCallback = NonNullable<IContextMenuValue['callback']>;

/** litegraph's own menu actions, typed for the entries' loose callback signature. */
const litegraphAction = (action: unknown) => action as MenuCallback;

function selectedNodes(canvas: LGraphCanvas, clicked?: LGraphNode): LGraphNode[] {
  const selected = Object.values(canvas.selected_nodes);
  return clicked && !selected.includes(clicked) ? [clicked] : selected;
}

/** Puts a new group around the selected nodes (Ctrl+G). Returns false when nothing is selected. */
export function groupSelected(canvas: LGraphCanvas): boolean {
  const nodes = selectedNodes(canvas);
  if (nodes.length === 0 || !canvas.graph) return false;
  const group = new LGraphGroup('Group');
  canvas.graph.add(group);
  group.resizeTo(nodes, 10);
  group.recomputeInsideNodes();
  canvas.setDirty(true, true);
  return true;
}

function nodeMenu(canvas: LGraphCanvas, node: LGraphNode, changed: () => void): MenuEntry[] {
  const modeEntry = (label: string, shortcut: string, mode: LGraphEventMode.BYPASS | LGraphEventMode.NEVER): IContextMenuValue => ({
    content: `${node.mode === mode ? `Remove ${label.toLowerCase()}` : label} (${shortcut})`,
    callback: () => {
      toggleMode(selectedNodes(canvas, node), mode);
      canvas.setDirty(true, true);
      changed();
    },
  });
  const entries: MenuEntry[] = [
    { content: 'Title', callback: litegraphAction(LGraphCanvas.onShowPropertyEditor) },
    modeEntry('Bypass', 'Ctrl+B', LGraphEventMode.BYPASS),
    modeEntry('Mute', 'Ctrl+M', LGraphEventMode.NEVER),
    null,
    {
      content: node.pinned ? 'Unpin' : 'Pin',
      callback: () => {
        const pin = !node.pinned;
        for (const each of selectedNodes(canvas, node)) each.pin(pin);
        canvas.setDirty(true, true);
        changed();
      },
    },
    { content: 'Colors', has_submenu: true, callback: litegraphAction(LGraphCanvas.onMenuNodeColors) },
    { content: 'Shapes', has_submenu: true, callback: litegraphAction(LGraphCanvas.onMenuNodeShapes) },
  ];
  if (node.collapsible) entries.push({ content: node.collapsed ? 'Expand' : 'Collapse', callback: litegraphAction(LGraphCanvas.onMenuNodeCollapse) });
  return entries;
}

/** Replaces litegraph's node and canvas menus on this canvas. */
export function installMenus(canvas: LGraphCanvas, changed: () => void): void {
  // litegraph appends Clone, Align (several selected) and Remove to what a node's getMenuOptions gives.
  const litegraphNodeMenu = canvas.getNodeMenuOptions.bind(canvas);
  canvas.getNodeMenuOptions = (node) => {
    const own = node.getMenuOptions;
    node.getMenuOptions = () => nodeMenu(canvas, node, changed) as IContextMenuValue[];
    try {
      return litegraphNodeMenu(node);
    } finally {
      if (own) node.getMenuOptions = own;
      else delete (node as { getMenuOptions?: unknown }).getMenuOptions;
    }
  };
  canvas.getMenuOptions = () => {
    const entries: MenuEntry[] = [
      { content: 'Add Node', has_submenu: true, callback: litegraphAction(LGraphCanvas.onMenuAdd) },
      { content: 'Add Group', callback: litegraphAction(LGraphCanvas.onGroupAdd) },
    ];
    if (Object.keys(canvas.selected_nodes).length > 0) {
      entries.push({ content: 'Group selected (Ctrl+G)', callback: () => void (groupSelected(canvas) && changed()) });
    }
    if (Object.keys(canvas.selected_nodes).length > 1) entries.push({ content: 'Align', has_submenu: true, callback: litegraphAction(LGraphCanvas.onGroupAlign) });
    return entries as IContextMenuValue<string>[];
  };
}
