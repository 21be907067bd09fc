// Opt in to React Router v7 behaviour now (also silences its upgrade warnings).
export const routerFuture = { v7_startTransition: true, v7_relativeSplatPath: true } as const;
