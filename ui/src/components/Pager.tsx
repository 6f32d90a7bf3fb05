/** Paging controls for `{results, total}` lists. */
export function Pager({ page, size, total, onPage, onSize }: {
  page: number;
  size: number;
  total: number;
  onPage: (page: number) => void;
  onSize: (size: number) => void;
}) {
  const pages = Math.max(1, Math.ceil(total / size));
  return (
    <div class="pager">
      <span>
        {total} result{total === 1 ? "" : "s"}
      </span>
      <label>
        Per page{" "}
        <select value={String(size)} onChange={(event) => onSize(Number((event.target as HTMLSelectElement).value))}>
          {[10, 25, 50, 100].map((value) => (
            <option value={String(value)}>{value}</option>
          ))}
        </select>
      </label>
      <button type="button" class="button small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ‹ Previous
      </button>
      <span aria-live="polite">
        Page {page} of {pages}
      </span>
      <button type="button" class="button small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next ›
      </button>
    </div>
  );
}
