-- The gateway reads nothing of payment (an order carries its payment id and
-- provider reference): its role keeps no grant here.
REVOKE SELECT ON payments FROM souk_payment_gateway;
