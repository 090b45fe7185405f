/** What `apply` did with one event. */
export interface ApplyOutcome {
  /**
   * `applied`: the plan ran; `ignored`: no rule for the entity; `skipped`: an UPDATE of
   * ignorable fields only; `duplicate`: this change was applied before.
   */
  status: 'applied' | 'ignored' | 'skipped' | 'duplicate';
  keys: number;
  tags: number;
  patterns: number;
}
