// Fetching and polling with TanStack Query, on the typed client.
import { useInfiniteQuery, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, call, problemOf, type Payment, type PaymentStatus, type Wallet } from "./client";
import { isFinal } from "../lib/tracker";

export const keys = {
  wallet: ["wallet"] as const,
  payment: (id: string) => ["payment", id] as const,
  history: (status: PaymentStatus | "") => ["history", status] as const,
};

export function useWallet() {
  return useQuery({
    queryKey: keys.wallet,
    queryFn: async (): Promise<Wallet> => {
      const { data, error, response } = await call(() => api.GET("/api/v1/wallet"));
      if (data === undefined) throw problemOf(response.status, error);
      return data;
    },
    // A new wallet opens a moment after registration (404 until then): keep asking meanwhile.
    retry: (count, error) => count < 20 && (error as { status?: number }).status === 404,
    retryDelay: 500,
    refetchInterval: 5_000,
  });
}

/** One payment, polled with its ETag (`If-None-Match`, 304 keeps what we have) until it is final. */
export function usePayment(paymentId: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: keys.payment(paymentId),
    queryFn: () => fetchPayment(client, paymentId),
    refetchInterval: (query) => (query.state.data && isFinal(query.state.data.payment.status) ? false : 1_000),
    refetchIntervalInBackground: false,
  });
}

interface Tagged {
  payment: Payment;
  etag: string | null;
}

async function fetchPayment(client: QueryClient, paymentId: string): Promise<Tagged> {
  const known = client.getQueryData<Tagged>(keys.payment(paymentId));
  const { data, error, response } = await call(() =>
    api.GET("/api/v1/payments/{payment_id}", {
      params: { path: { payment_id: paymentId }, header: known?.etag ? { "If-None-Match": known.etag } : {} },
      cache: "no-store", // our own If-None-Match, answered by the server, not the browser's cache
    }),
  );
  if (response.status === 304 && known) return known;
  if (data === undefined) throw problemOf(response.status, error);
  return { payment: data, etag: response.headers.get("ETag") };
}

export const PAGE_SIZE = 10;

/** The history, newest first, a page at a time with the server's cursor. */
export function useHistory(status: PaymentStatus | "") {
  return useInfiniteQuery({
    queryKey: keys.history(status),
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam }) => {
      const query: { limit: number; cursor?: string; status?: PaymentStatus } = { limit: PAGE_SIZE };
      if (pageParam) query.cursor = pageParam;
      if (status) query.status = status;
      const { data, error, response } = await call(() => api.GET("/api/v1/payments", { params: { query } }));
      if (data === undefined) throw problemOf(response.status, error);
      return data;
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 5_000,
  });
}
