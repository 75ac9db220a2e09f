# Generates StandardLoggingPayload + SpendLogs rows with the real litellm (pinned 1.109.3) against the local replay server.
import os, json, datetime, time
os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'
import litellm
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy.spend_tracking.spend_tracking_utils import get_logging_payload

SLP, SPEND = [], []
def _spend(kwargs, response_obj, start_time, end_time):
    try:
        p = get_logging_payload(kwargs=kwargs, response_obj=response_obj, start_time=start_time, end_time=end_time)
        SPEND.append(json.loads(json.dumps(p, default=str)))
    except Exception as e:
        print('spendlogs failed', type(e).__name__, e)
class Dump(CustomLogger):
    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        SLP.append(json.loads(json.dumps(kwargs['standard_logging_object'], default=str))); _spend(kwargs, response_obj, start_time, end_time)
    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        SLP.append(json.loads(json.dumps(kwargs['standard_logging_object'], default=str))); _spend(kwargs, response_obj, start_time, end_time)
litellm.callbacks = [Dump()]
BASE = 'http://127.0.0.1:18765/v1'
common = dict(api_base=BASE, api_key='sk-local-replay-not-a-secret')
msgs = [{'role': 'user', 'content': 'Reply with exactly: OK'}]
calls = [
    ('completion', 'openai/gpt-5.6-sol', 'chat_cache_write', dict(user='user-42', metadata={'tags': ['feature:replay'], 'session_id': 'sess-replay-1'}, litellm_trace_id='trace-replay-1')),
    ('completion', 'openai/gpt-5.6-sol', 'chat_cache_read', dict(user='user-42', metadata={'tags': ['feature:replay'], 'session_id': 'sess-replay-1'}, litellm_trace_id='trace-replay-1')),
    ('completion', 'openai/o3-mini-2025-01-31', 'chat_o3_reasoning', dict(user='user-7')),
    ('responses', 'openai/gpt-5-2025-08-07', 'resp_gpt5', dict(user='user-7')),
    ('completion', 'openai/gpt-5.2-proo', 'chat_404', dict(user='user-7', num_retries=0)),
]
for kind, model, key, extra in calls:
    try:
        if kind == 'completion':
            litellm.completion(model=model, messages=msgs, extra_headers={'x-replay': key}, **common, **extra)
        else:
            litellm.responses(model=model, input='Reply with exactly: OK', extra_headers={'x-replay': key}, **common, **extra)
        print('ok', key)
    except Exception as e:
        print('exception', key, type(e).__name__, str(e)[:120])
    time.sleep(1.0)  # let the sync success/failure handlers (run in a thread) finish
time.sleep(2)
json.dump({'slp': SLP, 'spend': SPEND}, open('/tmp/rc/gen/out.json', 'w'), indent=1, default=str)
print(len(SLP), len(SPEND))
